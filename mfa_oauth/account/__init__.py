"""The self-service security page: list, add, rename and remove second factors; backup codes."""
