"""Write the service's JSON-LD context, generated from the category files, into the bundled
contexts (credentials/contexts/dpp-wallet-v1.jsonld). Run it whenever a category file changes;
`--check` only reports whether the committed file is up to date (for CI)."""

from django.core.management.base import BaseCommand, CommandError

from passports.vocabulary import CONTEXT_FILE, CONTEXT_URL, render_context


class Command(BaseCommand):
    help = "Generate the dpp-wallet JSON-LD context from passports/categories."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="exit with an error if the committed file differs, instead of writing it",
        )

    def handle(self, *args, check=False, **options):
        text = render_context()
        current = CONTEXT_FILE.read_text(encoding="utf-8") if CONTEXT_FILE.exists() else None
        if check:
            if current != text:
                raise CommandError(
                    f"{CONTEXT_FILE.name} is out of date: run `manage.py build_context`"
                )
            self.stdout.write(f"{CONTEXT_FILE.name} is up to date")
            return
        if current == text:
            self.stdout.write(f"{CONTEXT_FILE.name} unchanged ({CONTEXT_URL})")
            return
        CONTEXT_FILE.write_text(text, encoding="utf-8")
        self.stdout.write(self.style.SUCCESS(f"wrote {CONTEXT_FILE} ({CONTEXT_URL})"))
