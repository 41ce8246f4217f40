// Placeholder: recommendations (issue 8).
