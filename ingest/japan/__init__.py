"""Japan Ministry of Finance trade statistics (e-Stat CSV downloads): client, sample, parser."""
