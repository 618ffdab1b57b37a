"""Watchlist: movies the viewer saved to watch later, saving and unsaving them."""
