"""Work orders (工单): pickup bookings, delivery urgings, inquiries, complaints, claims and praise, routed to a
department, held to an SLA by type and customer tier, escalated when the SLA is near and when it is breached."""
