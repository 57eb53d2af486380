"""Administration (/admin/): users, passwords, knowledge and notices, the business
calendar, the audit log viewer."""
