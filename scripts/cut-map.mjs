// Cuts the border-region outline of the default theme's map from Natural Earth data, once.
//
//   mkdir /tmp/mapcut && cd /tmp/mapcut && npm install world-atlas@2.0.2 topojson-client@3.1.0
//   NODE_PATH=/tmp/mapcut/node_modules node scripts/cut-map.mjs > themes/default/map/border-region.json
//
// Natural Earth is in the public domain; world-atlas (ISC licence) packages it as TopoJSON.
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const topojson = require("topojson-client");
const world = require("world-atlas/countries-50m.json");

// The area drawn: North Korea, the Chinese border provinces and Seoul, in degrees.
const bbox = { west: 121.0, south: 37.0, east: 132.5, north: 44.0 };
const width = 600;
const cos = Math.cos(((bbox.north + bbox.south) / 2) * Math.PI / 180);
const scale = width / ((bbox.east - bbox.west) * cos);
const height = Math.round((bbox.north - bbox.south) * scale);
const pad = 1.0; // degrees outside the frame where lines are pinned, so the pinning never shows

const project = ([lon, lat]) => {
  const x = (Math.min(Math.max(lon, bbox.west - pad), bbox.east + pad) - bbox.west) * cos * scale;
  const y = (bbox.north - Math.min(Math.max(lat, bbox.south - pad), bbox.north + pad)) * scale;
  return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
};

const names = ["China", "North Korea", "South Korea", "Russia", "Japan"];
const shapes = [];
for (const feature of topojson.feature(world, world.objects.countries).features) {
  const name = feature.properties.name;
  if (!names.includes(name)) continue;
  const polygons = feature.geometry.type === "Polygon" ? [feature.geometry.coordinates] : feature.geometry.coordinates;
  let d = "";
  for (const polygon of polygons) {
    for (const ring of polygon) {
      const inside = ring.some(([lon, lat]) => lon > bbox.west - pad && lon < bbox.east + pad && lat > bbox.south - pad && lat < bbox.north + pad);
      if (!inside) continue;
      let last = "";
      let first = true;
      for (const point of ring.map(project)) {
        const key = point.join(",");
        if (key === last) continue;
        d += (first ? "M" : "L") + key;
        first = false;
        last = key;
      }
      d += "Z";
    }
  }
  if (d) shapes.push({ name, d });
}
shapes.sort((a, b) => a.name.localeCompare(b.name));
console.log(JSON.stringify({
  source: "Natural Earth 1:50m admin-0 countries (public domain), via world-atlas 2.0.2; cut by scripts/cut-map.mjs",
  bbox: [bbox.west, bbox.south, bbox.east, bbox.north],
  width, height, shapes,
}, null, 1));
