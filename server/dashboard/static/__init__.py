"""The dashboard page's static files (HTML, CSS, ES modules, SVG); a package only so that setuptools ships them."""
