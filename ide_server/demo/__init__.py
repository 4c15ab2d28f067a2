"""The demo dbt project shipped with the IDE, and the git remote made from it."""
