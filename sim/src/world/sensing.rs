//! What the car senses each step: the lidar sweep (or its dropout), what was seen, the
//! observation written element by element, and the time-to-collision tracked for the metrics.

use super::*;

impl World {
    pub(super) fn sense(&mut self) {
        for v in &mut self.visibility {
            v.visible_now = false;
        }
        if self.sensor_dropout() {
            self.lidar.blank(&mut self.scan);
        } else {
            let origin = self.ego.center(&self.limits);
            // Walls within range lie within this distance along the road on any road whose
            // curves are gentler than the validation allows.
            let reach = 1.5 * self.lidar.range_m() + 10.0;
            let s = self.ego_frenet.s_m;
            let boxes = self.actors.iter().filter(|a| a.active).map(|a| {
                let hit = match a.kind {
                    ActorKind::Pedestrian => Hit::Pedestrian(a.id),
                    ActorKind::Car | ActorKind::Parked => Hit::Vehicle(a.id),
                };
                (&a.body, hit)
            });
            let walls = self
                .road
                .walls()
                .iter()
                .filter(|w| w.end_s_m >= s - reach && w.start_s_m <= s + reach)
                .map(|w| &w.segment);
            self.lidar.sweep(
                origin,
                self.ego.pose.heading_rad,
                boxes,
                walls,
                &mut self.scan,
            );
            if self.noise_std_m > 0.0 {
                for (range, hit) in self.scan.ranges_m.iter_mut().zip(&self.scan.hits) {
                    if *hit != Hit::Nothing {
                        *range = (*range + self.noise_std_m * gaussian(&mut self.noise_rng))
                            .clamp(0.0, self.lidar.range_m());
                    }
                }
            }
            for hit in &self.scan.hits {
                if let Some(i) = hit.actor() {
                    self.visibility[i].reported(self.step);
                }
            }
        }
        self.fill_observation();
    }

    pub(super) fn fill_observation(&mut self) {
        let f = self.ego_frenet;
        let road = &self.road;
        let lane = road.lane_at(f.d_m).unwrap_or(if f.d_m < 0.0 {
            0
        } else {
            road.lane_count() - 1
        });
        let heading_error = wrap_angle(self.ego.pose.heading_rad - self.ego_road_heading_rad);
        let ego_values = [
            self.ego.speed_mps,
            f.d_m - road.lane_center_d_m(lane),
            heading_error,
            road.half_width_m() - f.d_m,
            road.half_width_m() + f.d_m,
            road.curvature_at(f.s_m + CURVATURE_LOOKAHEAD_M[0]),
            road.curvature_at(f.s_m + CURVATURE_LOOKAHEAD_M[1]),
            road.curvature_at(f.s_m + CURVATURE_LOOKAHEAD_M[2]),
        ];
        let obs = &mut self.observation;
        for (beam, (range, hit)) in self.scan.ranges_m.iter().zip(&self.scan.hits).enumerate() {
            let one_hot = |yes: bool| f32::from(u8::from(yes));
            obs.set(Element::Ray(beam, RayField::Distance), *range as f32);
            obs.set(
                Element::Ray(beam, RayField::Vehicle),
                one_hot(matches!(hit, Hit::Vehicle(_))),
            );
            obs.set(
                Element::Ray(beam, RayField::Pedestrian),
                one_hot(matches!(hit, Hit::Pedestrian(_))),
            );
            obs.set(
                Element::Ray(beam, RayField::Edge),
                one_hot(*hit == Hit::Edge),
            );
        }
        for (field, v) in EgoField::ALL.into_iter().zip(ego_values) {
            obs.set(Element::Ego(field), v as f32);
        }
    }

    pub(super) fn track_ttc(&mut self) {
        let f = self.ego_frenet;
        let half_width = 0.5 * self.limits.width_m;
        let half_len = 0.5 * self.limits.length_m;
        let v = self.ego_speed_along();
        let mut best = self.metrics.min_ttc_s;
        for a in self.actors.iter().filter(|a| a.active) {
            if (a.d_m - f.d_m).abs() > half_width + a.half_extent_across_m() {
                continue;
            }
            let gap = a.s_m - f.s_m - half_len - 0.5 * a.extent_along_m();
            let closing = v - a.speed_mps;
            if gap > 0.0 && closing > 1e-6 {
                let ttc = gap / closing;
                best = Some(best.map_or(ttc, |b: f64| b.min(ttc)));
            }
        }
        self.metrics.min_ttc_s = best;
    }
}
