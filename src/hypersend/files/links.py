"""Short-lived signed download links: they work without headers, for browsers and download
managers that resume with Range (curl -C, wget -c, aria2c)."""

import hashlib
import hmac
import time

from hypersend.signatures import same_text


class LinkSigner:
    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), b"download-link", hashlib.sha256).digest()

    def sign(self, file_id: str, expires: int) -> str:
        message = f"{file_id}.{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def is_valid(self, file_id: str, expires: int, signature: str) -> bool:
        if expires < time.time():
            return False
        return same_text(signature, self.sign(file_id, expires))
