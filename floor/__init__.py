"""The floor: live queue and agent statistics, the supervisors' wallboard, listen/whisper/barge."""
