"""Letters and printable documents as PDF (WeasyPrint): visit notices, case files."""
