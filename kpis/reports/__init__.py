"""Weekly reports: the builders (print, CSV, XLSX), their mail and their views."""
