"""The analysis pages: views, their data, filters, Plotly figures and the KPI format tag."""
