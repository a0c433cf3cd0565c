"""What the technician records on site: checklist answers, parts, files, the signature, meter readings.

One module per record (checklists, parts_used, files, meter_readings); `recording` holds
what they share: the lock, the record's time and its event in the audit trail; `images`
decodes the photos and the signature once, under a pixel cap.
"""
