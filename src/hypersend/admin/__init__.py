"""Server administration: invite codes and user accounts, for admins only."""
