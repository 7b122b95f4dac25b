"""Korea Customs Service (data.go.kr) trade by item and country: client, sample, parser."""
