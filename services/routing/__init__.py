"""Routing (điều phối chuyên gia): the club's member registry, who gets each case and counseling request,
acceptance, deadlines and escalation, opinions, and the case's life from assignment to closing."""
