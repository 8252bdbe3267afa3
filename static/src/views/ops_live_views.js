/** @odoo-module **/
/**
 * List and kanban views that reload themselves when the server says records
 * changed (bus notification "ops_autopilot/refresh", sent after each batch
 * of processed GitHub deliveries), so runs and jobs appear live.
 */
import { onWillUnmount } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { useDebounced } from "@web/core/utils/timing";
import { KanbanController } from "@web/views/kanban/kanban_controller";
import { kanbanView } from "@web/views/kanban/kanban_view";
import { ListController } from "@web/views/list/list_controller";
import { listView } from "@web/views/list/list_view";

export const REFRESH_NOTIFICATION = "ops_autopilot/refresh";

export function useOpsLiveReload(controller) {
    const busService = useService("bus_service");
    const reload = useDebounced(async () => {
        const root = controller.model.root;
        if (root.editedRecord || root.selection?.length) {
            return; // never disturb someone editing or selecting
        }
        await controller.model.load();
    }, 800);
    const onRefresh = (payload) => {
        if (payload?.models?.includes(controller.props.resModel)) {
            reload();
        }
    };
    busService.subscribe(REFRESH_NOTIFICATION, onRefresh);
    busService.start();
    onWillUnmount(() => busService.unsubscribe(REFRESH_NOTIFICATION, onRefresh));
}

export class OpsLiveListController extends ListController {
    setup() {
        super.setup();
        useOpsLiveReload(this);
    }
}

export class OpsLiveKanbanController extends KanbanController {
    setup() {
        super.setup();
        useOpsLiveReload(this);
    }
}

registry.category("views").add("ops_live_list", { ...listView, Controller: OpsLiveListController });
registry.category("views").add("ops_live_kanban", { ...kanbanView, Controller: OpsLiveKanbanController });
