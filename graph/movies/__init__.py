"""Movies: the ``Movie`` type and its pages, look-up, search and the home-screen rails."""
