"""ACD: agents, their states, and queue membership driven over AMI."""
