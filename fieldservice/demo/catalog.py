"""Static vocabularies: skills, equipment models, checklists, parts and resolutions."""

from __future__ import annotations

from decimal import Decimal

SKILLS: tuple[tuple[str, str, str], ...] = (
    ("cnc", "CNC machining centres", "Fanuc, DMG Mori and Mazak controls, spindles, axes."),
    ("compressor", "Air compressors", "Screw and oil-free compressors, dryers, 2000 h services."),
    ("hvac", "Chillers & clean-room HVAC", "Centrifugal and screw chillers, AHUs, clean-room airflow."),
    ("smt", "SMT lines", "Placement machines, stencil printers, reflow ovens."),
    ("electrical", "UPS & power", "UPS systems, battery strings, switchgear."),
    ("lab_instruments", "Lab instruments", "LC, GC and mass spectrometers; calibration."),
    ("refrigeration", "Refrigeration", "Cold rooms, ULT freezers, industrial refrigeration."),
)
SKILL_CODES = tuple(code for code, _, _ in SKILLS)

# (manufacturer, model number, name, category, skill, level, serial prefix)
EQUIPMENT_MODELS: tuple[tuple[str, str, str, str, str, int, str], ...] = (
    ("Fanuc", "ROBODRILL α-D21MiB5", "Vertical machining centre", "cnc", "cnc", 2, "F"),
    ("Fanuc", "ROBOCUT α-C400iC", "Wire EDM", "cnc", "cnc", 2, "F"),
    ("DMG Mori", "DMU 50 3rd Gen", "5-axis milling machine", "cnc", "cnc", 3, "DM"),
    ("DMG Mori", "NLX 2500", "CNC turning centre", "cnc", "cnc", 2, "DM"),
    ("Mazak", "VARIAXIS i-700", "5-axis machining centre", "cnc", "cnc", 3, "MZ"),
    ("Mazak", "QUICK TURN 250MSY", "Multi-tasking lathe", "cnc", "cnc", 2, "MZ"),
    ("Atlas Copco", "GA 75 VSD+", "Oil-injected screw compressor", "compressor", "compressor", 2, "API"),
    ("Atlas Copco", "ZR 160", "Oil-free screw compressor", "compressor", "compressor", 3, "API"),
    ("Ingersoll Rand", "R55n", "Rotary screw compressor", "compressor", "compressor", 1, "IR"),
    ("Ingersoll Rand", "Nirvana R110n", "VSD screw compressor", "compressor", "compressor", 2, "IR"),
    ("Kaeser", "CSD 125", "Rotary screw compressor", "compressor", "compressor", 1, "KS"),
    ("Kaeser", "ESD 445", "Rotary screw compressor", "compressor", "compressor", 2, "KS"),
    ("Trane", "CVHE 500", "Centrifugal water chiller", "chiller", "hvac", 3, "TR"),
    ("Trane", "RTAF 300", "Air-cooled screw chiller", "chiller", "hvac", 2, "TR"),
    ("Carrier", "30XA 400", "Air-cooled screw chiller", "chiller", "hvac", 2, "CA"),
    ("Carrier", "19XR 600", "Centrifugal chiller", "chiller", "hvac", 3, "CA"),
    ("York", "YK 1000", "Centrifugal chiller", "chiller", "hvac", 3, "YK"),
    ("York", "YVAA 350", "Air-cooled VSD screw chiller", "chiller", "hvac", 2, "YK"),
    ("Daikin", "EWAD-TZ 400", "Air-cooled inverter chiller", "chiller", "hvac", 2, "DK"),
    ("Daikin", "D-AHU Professional", "Clean-room air handling unit", "cleanroom_hvac", "hvac", 2, "DK"),
    ("Trane", "CSAA 030", "Clean-room air handler", "cleanroom_hvac", "hvac", 2, "TR"),
    ("Carrier", "39CQ 1620", "Air handling unit", "cleanroom_hvac", "hvac", 1, "CA"),
    ("ASM", "SIPLACE TX2i", "SMT placement machine", "smt", "smt", 3, "ASM"),
    ("ASM", "DEK TQL", "Stencil printer", "smt", "smt", 2, "ASM"),
    ("Fuji", "NXT III", "Modular placement machine", "smt", "smt", 3, "FJ"),
    ("Fuji", "AIMEX IIIc", "Placement machine", "smt", "smt", 2, "FJ"),
    ("Panasonic", "NPM-W2", "Modular placement machine", "smt", "smt", 3, "PA"),
    ("Yamaha SMT", "YSM20R", "High-speed mounter", "smt", "smt", 2, "YA"),
    ("Schneider Electric", "Galaxy VX 500kVA", "Three-phase UPS", "ups", "electrical", 3, "SE"),
    ("APC", "Symmetra PX 100kW", "Modular UPS", "ups", "electrical", 2, "AS"),
    ("Eaton", "93PM 200kW", "Three-phase UPS", "ups", "electrical", 2, "ET"),
    ("Eaton", "9395P 500kVA", "Large three-phase UPS", "ups", "electrical", 3, "ET"),
    ("Vertiv", "Liebert EXL S1 400kVA", "Three-phase UPS", "ups", "electrical", 3, "VT"),
    ("Vertiv", "Liebert APM 90kVA", "Modular UPS", "ups", "electrical", 1, "VT"),
    ("Agilent", "1290 Infinity II", "UHPLC system", "lab_instrument", "lab_instruments", 2, "AG"),
    ("Agilent", "7890B", "Gas chromatograph", "lab_instrument", "lab_instruments", 2, "AG"),
    (
        "Thermo Fisher",
        "Orbitrap Exploris 240",
        "Mass spectrometer",
        "lab_instrument",
        "lab_instruments",
        3,
        "TF",
    ),
    ("Thermo Fisher", "Vanquish Flex", "UHPLC system", "lab_instrument", "lab_instruments", 2, "TF"),
    ("Waters", "ACQUITY UPLC H-Class", "UPLC system", "lab_instrument", "lab_instruments", 2, "WA"),
    ("Waters", "Xevo TQ-S micro", "Tandem quadrupole MS", "lab_instrument", "lab_instruments", 3, "WA"),
    ("Thermo Fisher", "TSX60086V", "-80 °C ULT freezer", "other", "refrigeration", 1, "TF"),
    ("Daikin", "Conveni-Pack LRYEQ16", "Cold-room condensing unit", "other", "refrigeration", 2, "DK"),
    ("York", "Frick RWF II 270", "Industrial screw refrigeration package", "other", "refrigeration", 3, "YK"),
    ("Vertiv", "Liebert PEX4 CRAC", "Precision air conditioner", "other", "hvac", 2, "VT"),
)

# Components mounted under a parent unit: parent category -> (manufacturer, model number).
COMPONENTS: dict[str, tuple[str, str, str, str, str, int, str]] = {
    "ups": ("Eaton", "EBM 9395 battery cabinet", "UPS battery cabinet", "ups", "electrical", 1, "ET"),
    "smt": ("ASM", "SIPLACE feeder trolley", "Feeder trolley", "smt", "smt", 1, "ASM"),
    "chiller": ("Trane", "Tracer UC800", "Chiller controller", "chiller", "hvac", 2, "TR"),
    "compressor": (
        "Atlas Copco",
        "FD 300 VSD",
        "Refrigerant air dryer",
        "compressor",
        "compressor",
        1,
        "API",
    ),
}

# Category weights of an account's equipment, by industry.
CATEGORY_MIX: dict[str, dict[str, int]] = {
    "semiconductor": {
        "cleanroom_hvac": 30,
        "chiller": 20,
        "compressor": 20,
        "ups": 15,
        "lab_instrument": 10,
        "other": 5,
    },
    "electronics_assembly": {
        "smt": 45,
        "compressor": 15,
        "cleanroom_hvac": 10,
        "ups": 10,
        "chiller": 10,
        "cnc": 10,
    },
    "automotive_parts": {"cnc": 50, "compressor": 25, "chiller": 10, "ups": 5, "other": 10},
    "pharma": {"lab_instrument": 35, "cleanroom_hvac": 25, "other": 20, "chiller": 10, "compressor": 10},
    "data_center": {"ups": 45, "chiller": 35, "other": 20},
    "machinery": {"cnc": 55, "compressor": 25, "chiller": 15, "ups": 5},
}

# Annual maintenance fee per covered unit, by category (CNY).
ANNUAL_FEE: dict[str, Decimal] = {
    "cnc": Decimal("18000"),
    "compressor": Decimal("12000"),
    "chiller": Decimal("36000"),
    "cleanroom_hvac": Decimal("22000"),
    "smt": Decimal("30000"),
    "ups": Decimal("15000"),
    "lab_instrument": Decimal("26000"),
    "other": Decimal("9000"),
}

# Units with an hour meter, and their typical running hours per day (low, high).
METERED_USAGE: dict[str, tuple[float, float]] = {
    "compressor": (14.0, 23.0),
    "cnc": (10.0, 20.0),
    "chiller": (8.0, 22.0),
}
METER_INTERVAL_HOURS: dict[str, Decimal] = {
    "compressor": Decimal("2000"),
    "cnc": Decimal("2500"),
    "chiller": Decimal("3000"),
}

# (label, kind, unit, required, (low, high) for values)
ChecklistItemSpec = tuple[str, str, str, bool, tuple[float, float] | None]
CHECKLISTS: dict[str, tuple[str, tuple[ChecklistItemSpec, ...]]] = {
    "compressor": (
        "Compressor 2000 h service",
        (
            ("Replace oil and oil filter", "pass_fail", "", True, None),
            ("Replace air filter element", "pass_fail", "", True, None),
            ("Discharge temperature", "value", "°C", True, (70.0, 95.0)),
            ("Working pressure", "value", "bar", True, (6.5, 8.5)),
            ("Check for leaks", "pass_fail", "", True, None),
            ("Remarks", "text", "", False, None),
        ),
    ),
    "cnc": (
        "CNC quarterly preventive maintenance",
        (
            ("Spindle runout", "value", "µm", True, (0.5, 4.0)),
            ("Way lube level and distribution", "pass_fail", "", True, None),
            ("Coolant concentration", "value", "%", True, (4.0, 9.0)),
            ("Axis backlash", "value", "µm", True, (1.0, 8.0)),
            ("Clean chip conveyor", "pass_fail", "", True, None),
            ("Remarks", "text", "", False, None),
        ),
    ),
    "chiller": (
        "Chiller seasonal maintenance",
        (
            ("Refrigerant leak test", "pass_fail", "", True, None),
            ("Condenser approach temperature", "value", "°C", True, (0.5, 4.0)),
            ("Compressor oil analysis sample taken", "pass_fail", "", True, None),
            ("Chilled water supply temperature", "value", "°C", True, (5.5, 8.0)),
            ("Remarks", "text", "", False, None),
        ),
    ),
    "cleanroom_hvac": (
        "Clean-room HVAC filter and airflow check",
        (
            ("HEPA filter differential pressure", "value", "Pa", True, (120.0, 280.0)),
            ("Room pressure cascade", "pass_fail", "", True, None),
            ("Particle count ISO class", "value", "class", True, (5.0, 7.0)),
            ("Fan belt and bearings", "pass_fail", "", True, None),
            ("Remarks", "text", "", False, None),
        ),
    ),
    "ups": (
        "UPS annual battery test",
        (
            ("Battery string voltage", "value", "V", True, (520.0, 560.0)),
            ("Battery internal resistance", "value", "mΩ", True, (2.0, 6.0)),
            ("Transfer to bypass test", "pass_fail", "", True, None),
            ("Fan and capacitor inspection", "pass_fail", "", True, None),
            ("Remarks", "text", "", False, None),
        ),
    ),
    "smt": (
        "SMT line preventive maintenance",
        (
            ("Nozzle inspection and cleaning", "pass_fail", "", True, None),
            ("Placement accuracy", "value", "µm", True, (15.0, 45.0)),
            ("Vacuum pressure", "value", "kPa", True, (-90.0, -70.0)),
            ("Conveyor belt condition", "pass_fail", "", True, None),
            ("Remarks", "text", "", False, None),
        ),
    ),
    "lab_instrument": (
        "Lab instrument calibration and PM",
        (
            ("Pump seal replacement", "pass_fail", "", True, None),
            ("Flow rate accuracy", "value", "%", True, (-1.0, 1.0)),
            ("Detector wavelength accuracy", "value", "nm", True, (-1.0, 1.0)),
            ("Calibration certificate issued", "pass_fail", "", True, None),
            ("Remarks", "text", "", False, None),
        ),
    ),
    "other": (
        "Refrigeration and precision cooling check",
        (
            ("Cabinet / room temperature", "value", "°C", True, (-82.0, 4.0)),
            ("Condenser coil cleaning", "pass_fail", "", True, None),
            ("Alarm test", "pass_fail", "", True, None),
            ("Remarks", "text", "", False, None),
        ),
    ),
}

# (part number, description, unit cost) by category.
PARTS: dict[str, tuple[tuple[str, str, Decimal], ...]] = {
    "compressor": (
        ("2901-0776-00", "Oil filter kit", Decimal("860.00")),
        ("1613-9001-00", "Air filter element", Decimal("420.00")),
        ("2901-0526-00", "Roto-Xtend oil 20 L", Decimal("1980.00")),
    ),
    "cnc": (
        ("A06B-0063-B203", "Servo motor", Decimal("18600.00")),
        ("SP-BRG-7014", "Spindle bearing set", Decimal("7200.00")),
        ("WL-FLT-100", "Way lube filter", Decimal("180.00")),
    ),
    "chiller": (
        ("KIT-RFG-134A", "R-134a refrigerant 10 kg", Decimal("950.00")),
        ("X13650707", "Oil filter", Decimal("620.00")),
        ("VLV-EXV-45", "Electronic expansion valve", Decimal("5400.00")),
    ),
    "cleanroom_hvac": (
        ("HEPA-H14-610", "HEPA filter H14 610×610", Decimal("1350.00")),
        ("BLT-SPB-2000", "Fan belt SPB 2000", Decimal("210.00")),
    ),
    "smt": (
        ("NZ-CN040", "Placement nozzle", Decimal("380.00")),
        ("FDR-8MM", "8 mm feeder repair kit", Decimal("1450.00")),
        ("BLT-CONV-01", "Conveyor belt", Decimal("560.00")),
    ),
    "ups": (
        ("BAT-12V100", "VRLA battery 12 V 100 Ah", Decimal("1650.00")),
        ("CAP-DC-4700", "DC capacitor bank", Decimal("3900.00")),
        ("FAN-UPS-120", "Cooling fan", Decimal("460.00")),
    ),
    "lab_instrument": (
        ("G7120-60500", "Pump seal kit", Decimal("2800.00")),
        ("5190-1445", "Deuterium lamp", Decimal("6200.00")),
    ),
    "other": (
        ("CMP-SEAL-01", "Door gasket", Decimal("740.00")),
        ("RLY-CTRL-24", "Control relay", Decimal("260.00")),
    ),
}

# (resolution code, text) for repairs, by category; preventive work uses its own codes.
REPAIRS: dict[str, tuple[tuple[str, str], ...]] = {
    "compressor": (
        ("replaced_part", "Replaced failed inlet valve; unit back to 7.5 bar."),
        ("adjusted", "Adjusted unload pressure and cleared high-temperature trip."),
        ("cleaned", "Cleaned cooler, discharge temperature back to normal."),
    ),
    "cnc": (
        ("replaced_part", "Replaced X-axis servo motor, reference point reset."),
        ("adjusted", "Re-aligned tool changer arm, ATC cycle verified."),
        ("firmware_update", "Updated control software, alarm 1000 cleared."),
    ),
    "chiller": (
        ("replaced_part", "Replaced expansion valve, superheat stable."),
        ("adjusted", "Recharged refrigerant after leak repair at flare joint."),
        ("cleaned", "Cleaned condenser tubes, approach temperature 1.5 °C."),
    ),
    "cleanroom_hvac": (
        ("replaced_part", "Replaced HEPA filters in zone 3, particle count OK."),
        ("adjusted", "Rebalanced supply air, room pressure cascade restored."),
    ),
    "smt": (
        ("replaced_part", "Replaced worn nozzles and feeder, pick-up rate > 99.9 %."),
        ("adjusted", "Re-calibrated placement head offsets."),
        ("firmware_update", "Updated machine software, vision errors resolved."),
    ),
    "ups": (
        ("replaced_part", "Replaced failed battery block in string 2."),
        ("replaced_part", "Replaced DC capacitor bank; load back on inverter."),
        ("adjusted", "Reset static bypass, alarm history cleared."),
    ),
    "lab_instrument": (
        ("replaced_part", "Replaced pump seals, pressure ripple < 1 %."),
        ("adjusted", "Re-calibrated detector, system suitability passed."),
    ),
    "other": (
        ("replaced_part", "Replaced door gasket; temperature holding."),
        ("adjusted", "Reset controller setpoints and tested alarms."),
    ),
}
NO_FAULT = ("no_fault_found", "No fault found on arrival; monitored for one hour, explained operation.")
FAULT_TITLES: dict[str, tuple[str, ...]] = {
    "compressor": ("High discharge temperature trip", "Pressure not reaching setpoint", "Oil carry-over"),
    "cnc": ("Spindle overload alarm", "Tool changer fault", "Axis following error"),
    "chiller": ("Low refrigerant pressure alarm", "Chilled water temperature high", "Compressor trip"),
    "cleanroom_hvac": ("Room pressure out of range", "Particle count alarm", "AHU fan failure"),
    "smt": ("Pick-up errors on head 2", "Vision recognition failures", "Conveyor jam"),
    "ups": ("UPS on bypass", "Battery alarm", "Inverter fault"),
    "lab_instrument": ("Pressure ripple on pump", "Baseline noise", "Leak sensor alarm"),
    "other": ("Temperature alarm", "Compressor short-cycling", "Door alarm"),
}
