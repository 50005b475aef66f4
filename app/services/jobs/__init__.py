"""Jobs on the submitter's side: packages, submitting them, downloading their results."""
