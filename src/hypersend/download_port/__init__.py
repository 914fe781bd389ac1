"""The download port: files on disk sent with sendfile(2), beside granian.

Standalone, without nginx in front, granian writes every byte of a download itself: it has
no sendfile (tokio reads the file into user space), and a Range answer goes through Python
and is copied once more (bench/README.md: 0.74-1.24 server CPU-seconds per GiB, against 0.07
for sendfile). With `DOWNLOAD_PORT` set, the API's download route checks access as always and
then redirects (307) to this port with a signed grant (`grants.py`); here the kernel sends
the file from the page cache to the socket, ranges included.

Processes: nothing is kept between requests; a grant carries all an answer needs. One such
process runs beside each `hypersend serve` (whatever its worker count), and any node with the
same `SECRET_KEY` and the same files (`DATA_ROOT` volume) serves any node's grants.
"""
