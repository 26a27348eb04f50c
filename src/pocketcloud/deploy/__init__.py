"""Hosting Django on pocketcloud: making a project (``scaffold``), finding one
(``project``) and deploying it to an instance."""
