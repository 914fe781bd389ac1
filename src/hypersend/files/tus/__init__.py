"""tus 1.0 resumable uploads (https://tus.io/protocols/resumable-upload) on the chunk API's
engine: the same records, chunk digests, content hash and file stores."""
