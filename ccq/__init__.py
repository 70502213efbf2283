"""Call-centre service-quality warehouse."""
