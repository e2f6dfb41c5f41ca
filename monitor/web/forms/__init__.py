"""Flask-WTF forms, one module per part of the register."""
