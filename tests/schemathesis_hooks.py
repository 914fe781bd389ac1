"""What schemathesis needs to know beyond the OpenAPI document (`SCHEMATHESIS_HOOKS`): how to
make a body of the tus media type, which is raw bytes."""

import schemathesis
from hypothesis import strategies as st

schemathesis.openapi.media_type("application/offset+octet-stream", st.binary(max_size=4096))
