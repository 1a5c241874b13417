#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if sys.argv[1:2] == ["make_secrets"]:
        # Before the settings are read: it makes the values they refuse to start without.
        from core.make_secrets import main as make_secrets

        return make_secrets()
    from django.core.management import execute_from_command_line

    from core.startup import stop_on_config_error

    with stop_on_config_error():
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
