"""Recommendations: the viewer's recommended movies and the model's predicted ratings."""
