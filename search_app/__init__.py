"""The nianbao search desk (Streamlit): `nianbao app`."""
