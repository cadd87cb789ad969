"""Block Kit builders and the wording users read. No API calls: outbound/ and inbound/ post what these build."""
