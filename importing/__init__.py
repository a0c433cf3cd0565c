"""CSV import of the installed base, contracts and technicians: the one place for import.

    reading.py      bytes -> rows of cells; refuses unreadable files (encoding, header, huge cells)
    cells.py        columns and the parsers that turn a cell into a typed value
    validation.py   judges every row: cells, repeats within the file, references, dependants
    kinds/          one module per kind: its columns, references, rules and related rows
    services.py     csv_import: validate, then write in one transaction (or only report)
    admin_views.py  the back-office upload page

Both the `import_csv` management command and the admin page call `services.csv_import`.
"""
