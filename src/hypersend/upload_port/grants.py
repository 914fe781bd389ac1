"""What the API gives the upload port: a signed grant to send one upload's chunks.

The API signs it for the caller's session when it describes an upload to its owner; the
upload port checks the signature, then the session (so signing out or a disabled account
ends it), then everything the API's chunk route checks (`FileService.receive_chunk`).
A grant lasts as long as an idle upload does (`UPLOAD_EXPIRY_HOURS`); an expired one is
told apart (`upload_link_expired`), so that a client asks for a fresh one and goes on.
"""

import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from hypersend.errors import Unauthorized
from hypersend.http1 import plain_number
from hypersend.signatures import Signer

GRANT_FIELDS = ("user", "session", "expires", "sig")


class UploadLinkExpired(Unauthorized):
    code = "upload_link_expired"

    def __init__(self) -> None:
        super().__init__("This upload link has expired: ask GET /files/{file_id}/info again")


@dataclass(frozen=True)
class UploadGrant:
    file_id: str
    user_id: str
    session_id: str
    expires: int

    def fields(self) -> tuple[str, str, str, int]:
        return self.file_id, self.user_id, self.session_id, self.expires


class UploadGrantSigner:
    def __init__(self, secret: str) -> None:
        self._signer = Signer(secret, b"upload-port-grant")

    def path(self, grant: UploadGrant) -> str:
        """The upload port's path for `grant`'s chunks (a client adds `&index=<n>`)."""
        query = {
            "user": grant.user_id,
            "session": grant.session_id,
            "expires": grant.expires,
            "sig": self._signer.sign(*grant.fields()),
        }
        return f"/files/upload/chunk/{quote(grant.file_id, safe='')}?{urlencode(query)}"

    def read(self, file_id: str, query: Mapping[str, str]) -> UploadGrant | None:
        """The grant that a path and its query (besides `index`) carry, if this server
        signed it; None otherwise. `UploadLinkExpired` for one it signed that has expired."""
        if set(query) != set(GRANT_FIELDS):
            return None
        expires = plain_number(query["expires"])
        if expires is None:
            return None
        grant = UploadGrant(file_id, query["user"], query["session"], expires)
        if not self._signer.verifies(query["sig"], *grant.fields()):
            return None
        if grant.expires < time.time():
            raise UploadLinkExpired
        return grant
