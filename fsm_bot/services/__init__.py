"""What flows may ask for, one module per feature: the community and its members, broadcasts and their
reports, the timetable, attendance. Each runs inside the event's unit of work, reaches the database only
through repositories and answers with values, so a flow never holds a session or a live row."""
