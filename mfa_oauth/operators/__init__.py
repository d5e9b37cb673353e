"""What operators do: the MFA admin site, the user admin with factors, the overview, commands."""
