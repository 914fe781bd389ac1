"""AWS Signature Version 4 for S3 requests: in headers, or in a presigned URL's query.

The payload is never hashed here: requests say `UNSIGNED-PAYLOAD` (or stream with a checksum
trailer), so that a part's bytes can be sent as they arrive instead of being read twice.
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"


@dataclass(frozen=True, slots=True)
class Credentials:
    access_key_id: str
    secret_access_key: str
    session_token: str = ""


def _encode(text: str, *, keep_slash: bool = False) -> str:
    return quote(text, safe="-_.~/" if keep_slash else "-_.~")


def canonical_query(params: dict[str, str]) -> str:
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(params.items()))


def _signing_key(secret: str, day: str, region: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (day, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


@dataclass(frozen=True, slots=True)
class Signer:
    credentials: Credentials
    region: str

    def _signature(
        self,
        *,
        method: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        payload: str,
        when: datetime,
    ) -> tuple[str, str]:
        """(signature, signed header names) of a request; header names lower-case."""
        names = sorted(headers)
        canonical = "\n".join(
            [
                method,
                _encode(path, keep_slash=True),
                canonical_query(query),
                "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in names),
                ";".join(names),
                payload,
            ]
        )
        stamp = when.strftime("%Y%m%dT%H%M%SZ")
        scope = self.scope(when)
        to_sign = "\n".join(
            [ALGORITHM, stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        key = _signing_key(self.credentials.secret_access_key, stamp[:8], self.region)
        return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), ";".join(names)

    def scope(self, when: datetime) -> str:
        return f"{when:%Y%m%d}/{self.region}/s3/aws4_request"

    def sign_headers(
        self,
        *,
        method: str,
        host: str,
        path: str,
        query: dict[str, str],
        headers: dict[str, str],
        payload: str,
        when: datetime,
    ) -> dict[str, str]:
        """The request's headers plus `Host`, `x-amz-date`, `x-amz-content-sha256`, the
        session token if any, and `Authorization`. Every given header is signed."""
        signed = {name.lower(): value for name, value in headers.items()}
        signed.update({"host": host, "x-amz-date": f"{when:%Y%m%dT%H%M%SZ}"})
        signed["x-amz-content-sha256"] = payload
        if self.credentials.session_token:
            signed["x-amz-security-token"] = self.credentials.session_token
        signature, names = self._signature(
            method=method, path=path, query=query, headers=signed, payload=payload, when=when
        )
        signed["authorization"] = (
            f"{ALGORITHM} Credential={self.credentials.access_key_id}/{self.scope(when)},"
            f" SignedHeaders={names}, Signature={signature}"
        )
        del signed["host"]  # the HTTP client sends it
        return signed

    def presign(
        self,
        *,
        method: str,
        host: str,
        path: str,
        query: dict[str, str],
        expires_seconds: int,
        when: datetime,
    ) -> dict[str, str]:
        """The query of a presigned URL: `query` plus the signature's parameters."""
        params = dict(query)
        params.update(
            {
                "X-Amz-Algorithm": ALGORITHM,
                "X-Amz-Credential": f"{self.credentials.access_key_id}/{self.scope(when)}",
                "X-Amz-Date": f"{when:%Y%m%dT%H%M%SZ}",
                "X-Amz-Expires": str(expires_seconds),
                "X-Amz-SignedHeaders": "host",
            }
        )
        if self.credentials.session_token:
            params["X-Amz-Security-Token"] = self.credentials.session_token
        signature, _ = self._signature(
            method=method,
            path=path,
            query=params,
            headers={"host": host},
            payload=UNSIGNED_PAYLOAD,
            when=when,
        )
        params["X-Amz-Signature"] = signature
        return params
