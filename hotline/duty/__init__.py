"""The duty log (值班记录), shift handovers (交接班记录), the A/B guard and stand-in work
(003 AB岗), and attendance (hotline duty …, /duty)."""
