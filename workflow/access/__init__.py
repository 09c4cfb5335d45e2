"""Who is acting and what they may see: tokens, stored credentials, read scope."""
