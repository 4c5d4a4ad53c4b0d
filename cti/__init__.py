"""CTI: the live model of calls built from AMI events, screen-pops and the agents' WebSocket hub."""
