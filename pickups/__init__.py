"""Pickup orders: booked by phone, assigned to the station serving the address, picked up or not."""
