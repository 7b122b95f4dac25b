"""Exchange rates: ECB monthly average reference rates (live) or the bundled ECB daily history."""
