"""Client for TikTok's Business API v1.3 (Marketing API ad comments)."""
