"""Industrial parks of the Yangtze River Delta and the service territories around them.

Territories are lon/lat rectangles (and one L shape) that tile the region; their edges
run through open country or water, well away from any park, so a point scattered within
a few kilometres of a park centre lies strictly inside exactly one of them. Edges are
densified because a geography polygon's edges are great-circle arcs, not parallels.
"""

from __future__ import annotations

import math
import random

from shapely.geometry import MultiPolygon, Point, Polygon

from fieldservice.demo.context import Park

KM_PER_DEGREE_LAT = 111.32
SITE_RADIUS_KM = 5.0
HOME_BASE_RADIUS_KM = 6.0
# A point closer than this (degrees) to a territory edge is redrawn.
EDGE_MARGIN_DEG = 0.01
EDGE_STEP_DEG = 0.1
MAX_DRAWS = 100

SHANGHAI = "Shanghai"
JIANGSU = "Suzhou-Wuxi-Changzhou"
HANGZHOU = "Hangzhou-Jiaxing"
NINGBO = "Ningbo"

# (name, colour, outline as (lon, lat) corners)
TERRITORY_OUTLINES: tuple[tuple[str, str, tuple[tuple[float, float], ...]], ...] = (
    (JIANGSU, "#2563eb", ((119.5, 30.95), (121.10, 30.95), (121.10, 32.0), (119.5, 32.0))),
    (SHANGHAI, "#dc2626", ((121.10, 30.60), (122.3, 30.60), (122.3, 32.0), (121.10, 32.0))),
    (
        HANGZHOU,
        "#16a34a",
        ((119.5, 29.5), (120.95, 29.5), (120.95, 30.60), (121.10, 30.60), (121.10, 30.95), (119.5, 30.95)),
    ),
    (NINGBO, "#d97706", ((120.95, 29.5), (122.3, 29.5), (122.3, 30.60), (120.95, 30.60))),
)

PARKS: tuple[Park, ...] = (
    Park(
        "sip",
        "Suzhou Industrial Park",
        "苏州工业园区",
        "Suzhou",
        "苏州",
        31.32,
        120.72,
        "512",
        ("星湖街", "苏虹中路", "金鸡湖大道", "现代大道", "东长路", "星龙街"),
        JIANGSU,
    ),
    Park(
        "snd",
        "Suzhou New District",
        "苏州高新区",
        "Suzhou",
        "苏州",
        31.29,
        120.55,
        "512",
        ("长江路", "珠江路", "狮山路", "竹园路", "嵩山路"),
        JIANGSU,
    ),
    Park(
        "kunshan",
        "Kunshan Development Zone",
        "昆山经济技术开发区",
        "Kunshan",
        "昆山",
        31.36,
        120.98,
        "512",
        ("前进东路", "青阳路", "黄浦江路", "长江南路", "洞庭湖路"),
        JIANGSU,
    ),
    Park(
        "wuxi",
        "Wuxi New District",
        "无锡新区",
        "Wuxi",
        "无锡",
        31.48,
        120.40,
        "510",
        ("长江路", "新华路", "锡士路", "新锡路", "珠江路"),
        JIANGSU,
    ),
    Park(
        "wujin",
        "Changzhou Wujin",
        "常州武进高新区",
        "Changzhou",
        "常州",
        31.70,
        119.95,
        "519",
        ("武宜路", "龙飞路", "海湖路", "阳湖路", "凤林路"),
        JIANGSU,
    ),
    Park(
        "zhangjiang",
        "Shanghai Zhangjiang Hi-Tech Park",
        "上海张江高科技园区",
        "Shanghai",
        "上海",
        31.20,
        121.59,
        "21",
        ("张江路", "祖冲之路", "郭守敬路", "蔡伦路", "哈雷路", "碧波路"),
        SHANGHAI,
    ),
    Park(
        "caohejing",
        "Shanghai Caohejing",
        "上海漕河泾开发区",
        "Shanghai",
        "上海",
        31.17,
        121.40,
        "21",
        ("宜山路", "桂平路", "钦州北路", "田林路", "古美路"),
        SHANGHAI,
    ),
    Park(
        "jinqiao",
        "Shanghai Jinqiao",
        "上海金桥开发区",
        "Shanghai",
        "上海",
        31.26,
        121.62,
        "21",
        ("金桥路", "新金桥路", "川桥路", "金海路", "云桥路"),
        SHANGHAI,
    ),
    Park(
        "songjiang",
        "Songjiang Industrial Zone",
        "松江工业区",
        "Shanghai",
        "上海",
        31.03,
        121.22,
        "21",
        ("荣乐东路", "九亭大街", "茸北路", "新飞路", "光星路"),
        SHANGHAI,
    ),
    Park(
        "xiasha",
        "Hangzhou Economic & Technological Development Area",
        "杭州经济技术开发区",
        "Hangzhou",
        "杭州",
        30.31,
        120.35,
        "571",
        ("白杨街道", "福城路", "金沙大道", "幸福南路", "学林街"),
        HANGZHOU,
    ),
    Park(
        "binjiang",
        "Hangzhou Binjiang",
        "杭州滨江高新区",
        "Hangzhou",
        "杭州",
        30.19,
        120.20,
        "571",
        ("江南大道", "滨安路", "江虹路", "六和路", "聚才路"),
        HANGZHOU,
    ),
    Park(
        "jiaxing",
        "Jiaxing Economic Development Zone",
        "嘉兴经济技术开发区",
        "Jiaxing",
        "嘉兴",
        30.75,
        120.76,
        "573",
        ("昌盛路", "中环南路", "正原路", "三环南路", "常秀街"),
        HANGZHOU,
    ),
    Park(
        "beilun",
        "Ningbo Beilun",
        "宁波北仑区",
        "Ningbo",
        "宁波",
        29.90,
        121.84,
        "574",
        ("明州路", "长江路", "新大路", "黄山西路", "太河路"),
        NINGBO,
    ),
    Park(
        "hzbay",
        "Ningbo Hangzhou Bay New Zone",
        "宁波杭州湾新区",
        "Ningbo",
        "宁波",
        30.30,
        121.25,
        "574",
        ("滨海二路", "兴慈一路", "金源大道", "玉海东路", "庵东路"),
        NINGBO,
    ),
)


def _densify(corners: tuple[tuple[float, float], ...]) -> list[tuple[float, float]]:
    ring = list(corners) + [corners[0]]
    points: list[tuple[float, float]] = []
    for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False):
        steps = max(1, math.ceil(max(abs(x1 - x0), abs(y1 - y0)) / EDGE_STEP_DEG))
        points += [(x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps) for i in range(steps)]
    return points + [points[0]]


def territory_polygons() -> list[tuple[str, str, MultiPolygon]]:
    return [(name, colour, MultiPolygon([Polygon(_densify(c))])) for name, colour, c in TERRITORY_OUTLINES]


def multipolygon_ewkt(shape: MultiPolygon) -> str:
    return f"SRID=4326;{shape.wkt}"


def scatter(rng: random.Random, park: Park, radius_km: float) -> tuple[float, float]:
    """A point uniformly within radius_km of the park centre, rounded to 6 decimals."""
    distance = radius_km * math.sqrt(rng.random())
    bearing = rng.uniform(0, 2 * math.pi)
    dlat = distance * math.cos(bearing) / KM_PER_DEGREE_LAT
    dlon = distance * math.sin(bearing) / (KM_PER_DEGREE_LAT * math.cos(math.radians(park.lat)))
    return round(park.lon + dlon, 6), round(park.lat + dlat, 6)


def scatter_in_territory(
    rng: random.Random, park: Park, radius_km: float, shapes: dict[int, MultiPolygon]
) -> tuple[float, float, int]:
    """Scatter around the park until the point is clearly inside exactly one territory."""
    for _ in range(MAX_DRAWS):
        lon, lat = scatter(rng, park, radius_km)
        point = Point(lon, lat)
        inside = [tid for tid, shape in shapes.items() if shape.contains(point)]
        if len(inside) == 1 and shapes[inside[0]].boundary.distance(point) > EDGE_MARGIN_DEG:
            return lon, lat, inside[0]
    raise RuntimeError(f"could not place a point near {park.name_en} inside one territory")
