"""Turning what a person types (an email) into the ids the API wants."""

from hypersend.client import HyperSendClient, InvalidInput


async def user_id_for(client: HyperSendClient, email: str) -> str:
    """Someone else's id, from their exact email."""
    email = email.strip().lower()
    found = [user for user in await client.search_users(email) if user.email == email]
    if found:
        return found[0].id
    if (await client.me()).email == email:
        raise InvalidInput(422, "yourself", f"{email} is your own account: name someone else")
    raise InvalidInput(404, "unknown_user", f"No user with email {email}")
