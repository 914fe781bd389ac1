"""Turning what a person types (an email) into the ids the API wants."""

from hypersend.client import HyperSendClient, InvalidInput


async def user_id_for(client: HyperSendClient, email: str) -> str:
    found = [user for user in await client.search_users(email) if user.email == email.lower()]
    if not found:
        raise InvalidInput(404, "unknown_user", f"No user with email {email}")
    return found[0].id
