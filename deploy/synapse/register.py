"""One-shot registration of a Matrix account through the shared-secret admin API; an existing one is success.

Usage: register.py HOMESERVER_URL LOCALPART, with SYNAPSE_SERVER_NAME, SYNAPSE_REGISTRATION_SHARED_SECRET
and REGISTER_PASSWORD in the environment (the password is never put on a command line).
"""

import os
import sys

from bootstrap.synapse_admin import SharedSecretRegistrar


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    url, localpart = sys.argv[1], sys.argv[2]
    registrar = SharedSecretRegistrar(
        url, os.environ.get("SYNAPSE_SERVER_NAME", "localhost"), os.environ["SYNAPSE_REGISTRATION_SHARED_SECRET"]
    )
    user_id = registrar.register(localpart, os.environ["REGISTER_PASSWORD"])
    print(f"registered {user_id} (or it already existed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
