"""What merchants read about their business: metrics, exports and previews."""
