"""Ratings: the viewer's ratings, pages of them, and rating or un-rating a movie."""
