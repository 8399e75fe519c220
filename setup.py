"""Maps the repository's top-level folders onto the ``fieldsync`` namespace.

``sync/`` installs as ``fieldsync.sync``, ``server/`` as ``fieldsync.server``
and so on; ``fieldsync`` itself is a namespace package, so no folder in a
checkout can shadow the installed distribution.
"""

from setuptools import find_packages, setup

PARTS = ("cli", "sync", "server", "sdk", "ocr", "geo", "voice")
DATA = ["*.json", "*.jsonl", "*.html", "*.js", "*.css", "*.ini", "*.mako", "*.txt", "*.svg", "*.png", "*.csv"]

packages: list[str] = []
package_dir: dict[str, str] = {}
for part in PARTS:
    package_dir[f"fieldsync.{part}"] = part
    packages.append(f"fieldsync.{part}")
    packages.extend(f"fieldsync.{part}.{sub}" for sub in find_packages(part))

package_data = {name: list(DATA) for name in packages}
# Alembic revision scripts are data to setuptools (their folder is not a package).
package_data["fieldsync.server.migrations"] += ["versions/*.py"]

setup(
    packages=packages,
    package_dir=package_dir,
    package_data=package_data,
)
