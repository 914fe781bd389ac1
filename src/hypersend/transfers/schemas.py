from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, Field, field_validator

from hypersend.files.schemas import display_name
from hypersend.storage.models import Transfer

TransferStatus = Literal["offered", "active", "completed", "failed", "cancelled", "expired"]


class OfferTransfer(BaseModel):
    receiver_id: str = Field(max_length=64)
    filename: str = Field(min_length=1, max_length=255)
    size: int = Field(gt=0)
    chat_id: str | None = Field(default=None, max_length=64)

    _filename = field_validator("filename")(display_name)


class TransferOut(BaseModel):
    transfer_id: str
    sender_id: str
    receiver_id: str
    chat_id: str | None
    filename: str
    size: int
    status: TransferStatus
    bytes_relayed: int
    reason: str
    created_at: datetime
    expires_at: datetime

    @classmethod
    def of(cls, transfer: Transfer) -> Self:
        return cls(
            transfer_id=transfer.id,
            sender_id=transfer.sender_id,
            receiver_id=transfer.receiver_id,
            chat_id=transfer.chat_id,
            filename=transfer.filename,
            size=transfer.size,
            status=transfer.status,
            bytes_relayed=transfer.bytes_relayed,
            reason=transfer.reason,
            created_at=transfer.created_at,
            expires_at=transfer.expires_at,
        )
