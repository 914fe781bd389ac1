"""Files in an S3-compatible bucket (AWS S3, MinIO, Ceph, Garage, R2, B2): the request
signing, the few S3 calls HyperSend makes, and the file store built on them."""
