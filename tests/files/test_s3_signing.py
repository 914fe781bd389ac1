"""Our SigV4 signatures are the ones botocore (the AWS SDK) makes for the same request."""

import hashlib
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from hypersend.files.s3.signing import Credentials, Signer

EMPTY = hashlib.sha256(b"").hexdigest()


def signed_at(stamp: str) -> datetime:
    """The moment botocore signed at (its `X-Amz-Date`), for ours to sign at too."""
    return datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def test_header_signatures_match_botocore() -> None:
    ours = Signer(Credentials("AKIDEXAMPLE", "secret/key+x", "token=="), "eu-west-3")
    url = "http://127.0.0.1:9000/bucket/files/ab/0123abc?partNumber=3&uploadId=a%2Fb%3Dc"
    request = AWSRequest(method="PUT", url=url, headers={"x-amz-checksum-sha256": "abc="})
    boto = BotoCredentials("AKIDEXAMPLE", "secret/key+x", "token==")
    S3SigV4Auth(boto, "s3", "eu-west-3").add_auth(request)
    headers = ours.sign_headers(
        method="PUT",
        host="127.0.0.1:9000",
        path="/bucket/files/ab/0123abc",
        query={"partNumber": "3", "uploadId": "a/b=c"},
        headers={"x-amz-checksum-sha256": "abc="},
        payload=EMPTY,
        when=signed_at(request.headers["X-Amz-Date"]),
    )
    assert headers["authorization"] == request.headers["Authorization"]
    assert headers["x-amz-security-token"] == "token=="


def test_presigned_urls_match_botocore() -> None:
    ours = Signer(Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI"), "us-east-1")
    url = "https://s3.example.com/bucket/files/ab/0123abc?response-content-disposition=attachment"
    request = AWSRequest(method="GET", url=url)
    boto = BotoCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI")
    S3SigV4QueryAuth(boto, "s3", "us-east-1", expires=600).add_auth(request)
    expected = dict(parse_qsl(urlsplit(request.url).query))
    params = ours.presign(
        method="GET",
        host="s3.example.com",
        path="/bucket/files/ab/0123abc",
        query={"response-content-disposition": "attachment"},
        expires_seconds=600,
        when=signed_at(expected["X-Amz-Date"]),
    )
    assert params == expected
